// Admin, periodic task page (django-celery-beat): under the Crontab field, the chosen schedule in words.
// django-celery-beat does this with an inline script; this file replaces it so the Content-Security-Policy
// needs no inline script. The text is inserted as text, never as HTML.
(function () {
  var $ = django.jQuery;
  var readable = JSON.parse(document.getElementById("readable-crontabs").textContent);
  var help = $(".field-crontab .help");
  var original = help.text();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var translation = readable[$("#id_crontab").val()];
    help.text(original).append($("<br>"), document.createTextNode("Translation: " + translation));
  });
})();

"""Forms of the inspection pages."""

from django import forms

from walmart_emulator.models import Seller


class FaultForm(forms.ModelForm):
    class Meta:
        model = Seller
        fields = [
            "fault_error_share",
            "fault_error_status",
            "fault_latency_ms",
            "fault_hang_seconds",
            "fault_throttle_storm",
            "fault_lost_answer_share",
            "fault_remaining",
        ]
        labels = {
            "fault_error_share": "Share of 500/503 answers (0..1)",
            "fault_error_status": "Error status",
            "fault_latency_ms": "Added latency (ms)",
            "fault_hang_seconds": "Hang (seconds)",
            "fault_throttle_storm": "429 storm",
            "fault_lost_answer_share": "Share of writes applied, answer lost (0..1)",
            "fault_remaining": "Faults left (empty: no limit)",
        }
        widgets = {"fault_error_status": forms.Select(choices=[(500, "500"), (503, "503")])}

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in ("fault_error_share", "fault_lost_answer_share"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "Must be between 0 and 1.")
        return data


class SimulateOrdersForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=100, initial=1)


class ClockForm(forms.Form):
    hours = forms.FloatField(min_value=-10_000, max_value=10_000, initial=1)


class IntentToCancelForm(forms.Form):
    purchase_order_id = forms.CharField(max_length=20)

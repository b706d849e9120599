"""The WSGI application the soak's gunicorn serves: the project (with the Walmart emulator mounted) behind
the soak's request log of Walmart writes (bench/soak/requestlog.py). Settings come from the environment
the soak sets (DJANGO_SETTINGS_MODULE, SOAK_REQUEST_LOG_DIR)."""

import os

from django.core.wsgi import get_wsgi_application

from bench.soak.requestlog import RequestLog, install_outcome_probe

django_application = get_wsgi_application()
application = RequestLog(
    django_application, directory=os.environ["SOAK_REQUEST_LOG_DIR"], probe_installed=install_outcome_probe()
)

import os

from django.core.wsgi import get_wsgi_application

from leadbaton.core.datadir import data_dir_prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbaton.settings")
data_dir_prepare()  # a server may create its data directory (private), as `leadbaton serve` does
application = get_wsgi_application()

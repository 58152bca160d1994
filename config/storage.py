"""Static files storage: hashed names, also inside ES module imports."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class PonderStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # app.<hash>.js must import api.<hash>.js, or a browser mixes old and new modules
    # right after a deploy.
    support_js_module_import_aggregation = True

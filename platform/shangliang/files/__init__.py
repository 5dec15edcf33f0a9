"""Photos and attachments: direct signed uploads, background checks, galleries, signed downloads."""
# Files knows the topic (the package below it): wherever files is used, the topic is an owner.
from . import topic_files, transfer_files  # noqa: F401

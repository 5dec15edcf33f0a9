"""Photos and attachments: a signed upload straight to storage, a background check, and only
then a file that is shown and served.

    request_upload → (browser posts the file to storage) → complete_upload → check job → ready

The rules live in modules named for what they hold: owners (what files may belong to), access
(who sees and adds what, galleries, signed links), uploads (limits, quota, the two upload
steps), checks (the check job's work), deletion, reconcile (the periodic storage check) and
keys (where a file's objects live). This module keeps the names other packages call.
"""
from __future__ import annotations

from ..core.storage import UPLOAD_EXPIRY
from .access import (attachments_of, download_name, find_owner, gallery_items, get, may_delete, may_see, may_upload,
                     ready_by_key, signed_url, visible)
from .checks import check_upload
from .deletion import delete_attachment, delete_owner_files, remove_objects
from .keys import derived_keys, file_key, thumb_key, web_key
from .owners import OWNERS
from .reconcile import check_storage, latest_check
from .uploads import MAX_FILE, clean_filename, complete_upload, quota, request_upload, usage

__all__ = [
    "UPLOAD_EXPIRY", "MAX_FILE", "OWNERS",
    # api/views.py
    "attachments_of", "complete_upload", "delete_attachment", "find_owner", "may_see", "request_upload",
    "signed_url", "visible",
    # topics (the topic page's gallery, evidence by id or by key), meetings, benchmarks/history_store.py
    "gallery_items", "get", "ready_by_key", "delete_owner_files", "file_key", "thumb_key", "web_key",
    # tests and files' own pages
    "check_storage", "check_upload", "clean_filename", "derived_keys", "download_name", "latest_check",
    "may_delete", "may_upload", "quota", "remove_objects", "usage",
]

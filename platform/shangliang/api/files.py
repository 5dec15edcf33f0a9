"""Photos and attachments through the API: a signed upload straight to storage, its check in the
background, reading, listing and deleting attachments."""
from __future__ import annotations

from flask import g, jsonify, request

from ..core.permissions import require
from ..files import operations as file_ops
from . import schemas
from .base import body, bp, found, operation, stop

OWNER_QUERY = [{"name": "owner_kind", "in": "query", "required": True,
                "schema": {"type": "string", "enum": ["topic", "meeting", "work_item"]}},
               {"name": "owner_id", "in": "query", "required": True, "schema": {"type": "string", "format": "uuid"}}]


def _file_json(att) -> dict:
    """The attachment; once it passed its check, signed links (five minutes) to it and its images."""
    out = schemas.AttachmentSchema().dump(att)
    out.update(url=file_ops.signed_url(att), thumb_url=file_ops.signed_url(att, "thumb"),
               web_url=file_ops.signed_url(att, "web"), expires_in=300 if att.status == "ready" else None)
    return out


@bp.post("/t/<slug>/files/uploads")
@operation("/t/{slug}/files/uploads", "post", "Start an upload: a signed form to POST the file to storage directly "
           "(multipart, fields first, then `file`); storage takes this key and at most `size` bytes",
           body=schemas.UploadRequestSchema, response=schemas.UploadSchema, status=201, subject="file")
@require("files.upload")
def file_upload():
    data = body(schemas.UploadRequestSchema)
    att, form = file_ops.request_upload(g.tenant, g.api_token.created_by, data["owner_kind"], data["owner_id"],
                                        data["filename"], data["size"], data["content_type"], roles=g.api_roles)
    return jsonify({**_file_json(att), "form": form, "form_expires_in": file_ops.UPLOAD_EXPIRY}), 201


@bp.post("/t/<slug>/files/<uuid:attachment_id>/complete")
@operation("/t/{slug}/files/{attachment_id}/complete", "post", "The file is in storage: check it in the background "
           "(status `checking`, then `ready` or `refused` with `error`)", response=schemas.AttachmentSchema,
           status=202, subject="file", answers=(503,))
@require("files.upload")
def file_complete(attachment_id):
    return jsonify(_file_json(file_ops.complete_upload(g.tenant, g.api_token.created_by, attachment_id))), 202


@bp.get("/t/<slug>/files/<uuid:attachment_id>")
@operation("/t/{slug}/files/{attachment_id}", "get", "An attachment: its status, sizes and, once checked, signed "
           "links valid for five minutes", response=schemas.AttachmentSchema)
@require("tenant.view")
def file_get(attachment_id):
    return jsonify(_file_json(found(file_ops.visible(attachment_id, g.api_roles), "file")))


@bp.get("/t/<slug>/files")
@operation("/t/{slug}/files", "get", "The attachments of a topic, meeting or work item, oldest first (200 at most)",
           response=schemas.AttachmentList, query=OWNER_QUERY, subject="file")
@require("tenant.view")
def file_list():
    kind = request.args.get("owner_kind", "")
    owner = file_ops.find_owner(kind, request.args.get("owner_id", ""))  # refused as not_found: 404
    if not file_ops.may_see(kind, g.api_roles):
        stop(404, "not_found", "no such owner")
    return jsonify({"items": [_file_json(a) for a in file_ops.attachments_of(kind, owner.id)]})


@bp.delete("/t/<slug>/files/<uuid:attachment_id>")
@operation("/t/{slug}/files/{attachment_id}", "delete", "Delete an attachment (its uploader or an administrator); "
           "its objects are removed in the background unless another attachment shares them",
           response=schemas.AttachmentSchema, subject="file")
@require("files.upload")
def file_delete(attachment_id):
    return jsonify(_file_json(file_ops.delete_attachment(g.tenant, g.api_token.created_by, g.api_roles,
                                                         attachment_id)))

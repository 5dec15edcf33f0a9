"""Photos and attachments through the API: a signed upload straight to storage, its check in the
background, reading, listing and deleting attachments."""
from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields, validate

from ..core.permissions import require
from ..core.storage import current_storage
from ..files import operations as file_ops
from .base import body, bp, found, operation, stop
from .schemas import Int64


# ---------------------------------------------------------------- schemas

class AttachmentSchema(Schema):
    id = fields.UUID(metadata={"description": "the attachment: read, complete, delete it, or record it on a topic "
                                              "as evidence (`attach` with `{\"attachment_id\": …}`)"})
    owner_kind = fields.String(metadata={"enum": ["topic", "meeting", "work_item"]})
    owner_id = fields.UUID(metadata={"description": "the `id` of the topic, meeting or work item it belongs to"})
    name = fields.String(attribute="filename", metadata={"description": "as given; metadata only, never a path"})
    status = fields.String(metadata={"enum": ["uploading", "checking", "ready", "refused", "deleted"]})
    error = fields.String(allow_none=True, metadata={"description": "why the check refused it (Chinese)"})
    kind = fields.String(allow_none=True, metadata={"enum": ["photo", "document"]})
    content_type = fields.String(allow_none=True, metadata={"description": "what the check found and stores"})
    declared_size = Int64()
    size = Int64(allow_none=True, metadata={
        "description": "bytes it holds in storage, thumbnail and web-sized image included (what the quota counts)"})
    sha256 = fields.String(allow_none=True, metadata={"description": "of the file as uploaded"})
    width = Int64(allow_none=True)
    height = Int64(allow_none=True)
    taken_at = fields.DateTime(allow_none=True, metadata={"description": "capture time from the photo's EXIF"})
    same_as = fields.UUID(allow_none=True, metadata={"description": "the attachment whose stored bytes it shares"})
    created_by = Int64(allow_none=True, metadata={"description": "the user id of whoever uploaded it"})
    created_at = fields.DateTime()
    checked_at = fields.DateTime(allow_none=True)
    url = fields.String(allow_none=True, dump_only=True, metadata={"description": "signed download link"})
    thumb_url = fields.String(allow_none=True, dump_only=True)
    web_url = fields.String(allow_none=True, dump_only=True)
    expires_in = Int64(allow_none=True, dump_only=True, metadata={"description": "seconds the links live"})


class UploadRequestSchema(Schema):
    owner_kind = fields.String(required=True, validate=validate.OneOf(("topic", "meeting", "work_item")))
    owner_id = fields.UUID(required=True)
    filename = fields.String(load_default="", validate=validate.Length(max=1000))
    size = Int64(required=True, metadata={"description": "bytes; storage refuses more"})
    content_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class UploadFormSchema(Schema):
    url = fields.String()
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.String())


class UploadSchema(AttachmentSchema):
    form = fields.Nested(UploadFormSchema)
    form_expires_in = Int64()


AttachmentList = Schema.from_dict({"items": fields.List(fields.Nested(AttachmentSchema))}, name="AttachmentList")


# ---------------------------------------------------------------- operations

OWNER_QUERY = [{"name": "owner_kind", "in": "query", "required": True,
                "schema": {"type": "string", "enum": ["topic", "meeting", "work_item"]}},
               {"name": "owner_id", "in": "query", "required": True, "schema": {"type": "string", "format": "uuid"}}]


def _file_json(att) -> dict:
    """The attachment; once it passed its check, signed links (five minutes) to it and its images
    (none to a storage that is away: 503 naming it)."""
    if att.status == "ready":
        current_storage().require_available()
    out = AttachmentSchema().dump(att)
    out.update(url=file_ops.signed_url(att), thumb_url=file_ops.signed_url(att, "thumb"),
               web_url=file_ops.signed_url(att, "web"), expires_in=300 if att.status == "ready" else None)
    return out


@bp.post("/t/<slug>/files/uploads")
@operation("/t/{slug}/files/uploads", "post", "Start an upload: a signed form to POST the file to storage directly "
           "(multipart, fields first, then `file`); storage takes this key and at most `size` bytes",
           body=UploadRequestSchema, response=UploadSchema, status=201, subject="file", scope="upload",
           answers=(503,))
@require("files.upload")
def file_upload():
    data = body(UploadRequestSchema)
    att, form = file_ops.request_upload(g.tenant, g.api_actor, data["owner_kind"], data["owner_id"],
                                        data["filename"], data["size"], data["content_type"], roles=g.api_roles)
    return jsonify({**_file_json(att), "form": form, "form_expires_in": file_ops.UPLOAD_EXPIRY}), 201


@bp.post("/t/<slug>/files/<uuid:attachment_id>/complete")
@operation("/t/{slug}/files/{attachment_id}/complete", "post", "The file is in storage: check it in the background "
           "(status `checking`, then `ready` or `refused` with `error`)", response=AttachmentSchema,
           status=202, subject="file", scope="upload", answers=(503,))
@require("files.upload")
def file_complete(attachment_id):
    return jsonify(_file_json(file_ops.complete_upload(g.tenant, g.api_actor, attachment_id))), 202


@bp.get("/t/<slug>/files/<uuid:attachment_id>")
@operation("/t/{slug}/files/{attachment_id}", "get", "An attachment: its status, sizes and, once checked, signed "
           "links valid for five minutes", response=AttachmentSchema, answers=(503,))
@require("tenant.view")
def file_get(attachment_id):
    return jsonify(_file_json(found(file_ops.visible(attachment_id, g.api_roles, g.api_actor), "file")))


@bp.get("/t/<slug>/files")
@operation("/t/{slug}/files", "get", "The attachments of a topic, meeting or work item, oldest first (200 at most)",
           response=AttachmentList, query=OWNER_QUERY, subject="file", answers=(503,))
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
           response=AttachmentSchema, subject="file", scope="upload")
@require("files.upload")
def file_delete(attachment_id):
    return jsonify(_file_json(file_ops.delete_attachment(g.tenant, g.api_actor, g.api_roles,
                                                         attachment_id)))

"""The integrations' entries in the audit log, in words (audit/kinds.py): webhooks, OAuth clients
and the 12345 hotline."""
from __future__ import annotations

from ..audit.kinds import after, register, register_reason

order = after("hotline-order")


def _webhooks(_target, _detail):
    return "webhooks.index", {}


def _hotline(_target, _detail):
    return "hotline.index", {}


def _order(target, _detail):
    n = order(target)
    return f"12345 工单 {n}" if n else None


def _delivery(_target, detail):
    return detail.get("event")


register("webhook.create", "新建推送地址", "Webhook created", link=_webhooks)
register("webhook.pause", "暂停推送", "Webhook paused", link=_webhooks)
register("webhook.resume", "恢复推送", "Webhook resumed", link=_webhooks)
register("webhook.delete", "删除推送地址", "Webhook deleted", link=_webhooks)
register("webhook.resend", "重新推送", "Delivery sent again", name=_delivery, link=_webhooks)
register("oauth_client.create", "登记接入应用", "OAuth client registered", "signin")
register("oauth_client.enable", "启用接入应用", "OAuth client enabled", "signin")
register("oauth_client.disable", "停用接入应用", "OAuth client disabled", "signin")
register("oauth_client.authorize", "授权接入应用", "OAuth client authorised", "signin")
register("hotline.account.create", "开通 12345 对接", "12345 account created", link=_hotline)
register("hotline.account.update", "修改 12345 对接", "12345 account changed", link=_hotline)
register("hotline.account.rotate", "更换 12345 对接密钥", "12345 secret rotated", link=_hotline)
register("hotline.account.enable", "启用 12345 对接", "12345 account enabled", link=_hotline)
register("hotline.account.disable", "停用 12345 对接", "12345 account disabled", link=_hotline)
for status, zh, en in (("created", "收到 12345 工单并转为议题", "12345 order received as a topic"),
                       ("queued", "收到 12345 工单，待分派", "12345 order queued"),
                       ("updated", "12345 工单更新", "12345 order updated"),
                       ("unchanged", "12345 工单重发（无变化）", "12345 order sent again"),
                       ("stale", "12345 工单旧版本（未采用）", "12345 order out of date")):
    register(f"hotline.order.{status}", zh, en, "system", name=_order, link=_hotline)
register("hotline.order.assign", "分派 12345 工单", "12345 order assigned", name=_order, link=_hotline)
register("hotline.visit", "收到 12345 回访结果", "12345 callback result", "system", name=_order)
register_reason("hotline.route", "按地址分派 12345 工单", "Routing a 12345 order")
register_reason("hotline.callbacks", "查看 12345 待回访", "12345 callbacks due")

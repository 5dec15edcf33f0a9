"""The small procedure the tests share: four steps (点单 → 商单 → 评单 → 收单), each asking for one
kind of evidence, with every side path (out of scope, escalate, transfer, reopen) once."""

SMALL = """
key: small
name: {zh: 小流程, en: Small}
steps:
  - key: dian
    name: {zh: 点单, en: Order}
    phase: intake
    roles: [staff, resident]
    evidence: {fields: [category, description]}
    time_limit: {hours: 24}
    transitions: [{kind: advance, to: shang}, {kind: close_out_of_scope, to: shou}]
  - key: shang
    name: {zh: 商单, en: Consult}
    phase: deliberation
    roles: [member, staff]
    evidence: {consultation_record: true}
    time_limit: {working_days: 5}
    transitions: [{kind: advance, to: ping}, {kind: escalate}, {kind: transfer, to: shang}]
  - key: ping
    name: {zh: 评单, en: Rate}
    phase: evaluation
    roles: [resident, staff]
    evidence: {rating: true}
    transitions: [{kind: advance, to: shou}, {kind: reopen, to: shang, max_rounds: 3}]
  - key: shou
    name: {zh: 收单, en: Close}
    phase: closure
    roles: [street_admin]
    evidence: {fields: [summary]}
"""

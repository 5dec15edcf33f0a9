"""督办 and the evaluating parties other than the residents, counted with the rollups.

- 督办: a topic supervised at least once (a county over its streets, a street's 党工委 over its
  communities), and of those, the ones closed as done: how often a street needs pushing, and
  whether the push worked.
- 党政点评 and 委员评议 (四环八步, 提议办评): the last valid rating a topic got from officials
  (street or county administrators) and from members, when it is not the rating that decides; a
  party is known by the roles the procedure gives it (the rating's `standing`), so procedures that
  name their parties differently still add up.
- The 1–5 dimension scores (提议办评's 时长, 类型, 成效): each rating keeps their mean in hundredths
  (`score_points`, an integer, so that topics, months and streets add up exactly); the measure is
  the mean over every scored rating.

Each piece is a column of the per-topic subquery and a condition on it (`rollups.TopicFlags`)."""
from __future__ import annotations

from sqlalchemy import and_, case, func

from ..topics.ratings import RATE, decides_sql, valid_sql

COUNTS = ("supervised", "supervised_closed", "officials_rated", "officials_satisfied", "members_rated",
          "members_satisfied", "scored", "score_points")
PARTIES = ("officials", "members")
SATISFIED = ("very_satisfied", "satisfied")  # as the satisfaction rate counts, 基本满意 aside


def per_topic(E, level) -> list:
    """Columns of the per-topic subquery (E: topic_events, level: the rating level's SQL)."""
    points = E.data["score_points"].as_integer()
    scored = and_(E.action == RATE, points.is_not(None))
    columns = [func.max(case((E.action == "supervise", 1), else_=0)).label("supervised"),
               func.sum(case((scored, points), else_=0)).label("score_points"),
               func.sum(case((scored, 1), else_=0)).label("scored")]
    for party in PARTIES:
        # the party's last valid rating, packed after its seq with whether it was satisfied
        theirs = and_(E.action == RATE, ~decides_sql(E.data), valid_sql(E.data),
                      E.data["standing"].as_string() == party)
        columns.append(func.max(case((theirs, E.seq * 2 + case((level.in_(SATISFIED), 1), else_=0))))
                       .label(party))
    return columns


def flags(t, done) -> dict:
    """Conditions per topic (t: the per-topic subquery's columns; done: closed as done)."""
    out = {"supervised": t.supervised == 1, "supervised_closed": and_(t.supervised == 1, done)}
    for party in PARTIES:
        column = getattr(t, party)
        out[f"{party}_rated"] = column.is_not(None)
        out[f"{party}_satisfied"] = and_(column.is_not(None), column % 2 == 1)
    return out


def sums(t) -> dict:
    """Figures that are sums rather than counts of topics: scored ratings and their points."""
    return {"score_points": func.sum(t.score_points), "scored": func.sum(t.scored)}

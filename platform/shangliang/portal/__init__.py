"""The public side of a street: what 商量 is, raising a topic (点单), following and rating it, 公示."""

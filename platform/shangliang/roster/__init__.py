"""Who takes part in 商量: the street's roster of people, its stations and the duty rota (轮值)."""

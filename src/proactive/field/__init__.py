"""The field: the 15-minute circle, placement of visits, routes, working days, task lists,
outcomes, coverage and forecast."""

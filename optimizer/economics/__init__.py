"""The money side of a plan: the service catalogue, subsidies and who pays what.

`catalogue` reads the services and their tiers, `costs` turns them into the
yearly cost rates the formulation and the figures share, `terms` holds the
model's `[finance]` table, `subsidy` gives each municipality its subsidy, and
`finance` settles a plan: every euro per municipality, to the cent.
"""

"""What the world looks like: instances (municipalities, attributes, adjacency, distances),
plans and their files, and the builders of the Finnish and random instances. Imports only
the base modules."""

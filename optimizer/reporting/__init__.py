"""What a planner opens and forwards: the interactive map, the one-file report, the GeoPackage.

Everything written here works offline: Leaflet is inlined from the
xstatic-leaflet package, so a map or report opens without a network.
"""

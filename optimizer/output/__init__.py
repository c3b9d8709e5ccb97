"""Everything a run leaves behind or shows: terminal text, summary.json, the run directory
written as one set, the maps, the GeoPackage, the one-file report, and a run directory read
back. Works offline: Leaflet is inlined, nothing is fetched."""


// Hotspots live in their own panes, above the incident markers and their
// cluster bubbles (markerPane, z 600): a bubble never hides a hotspot, and
// each shape carries its rank label on top.
if (!map.getPane('hwHotspots')) { map.createPane('hwHotspots').style.zIndex = 615; }
if (!map.getPane('hwHotspotLabels')) {
    var lp = map.createPane('hwHotspotLabels');
    lp.style.zIndex = 640; lp.style.pointerEvents = 'none';
}
L.geoJSON(data.geojson, {
    pane: 'hwHotspots',
    style: function (f) {
        return {color: data.outline, weight: data.weight, fillColor: f.properties.c,
                fillOpacity: data.fillOpacity, opacity: 1};
    },
    onEachFeature: function (f, layer) {
        layer.bindPopup(f.properties.p, {maxWidth: 340});
        layer.bindTooltip(f.properties.t, {sticky: true});
    }
}).addTo(parent);
var lb = data.labels;
for (var i = 0; i < lb.lat.length; i++) {
    L.marker([lb.lat[i], lb.lon[i]], {
        pane: 'hwHotspotLabels', interactive: false, keyboard: false,
        icon: L.divIcon({className: 'hw-rank', html: '<span>' + lb.text[i] + '</span>', iconSize: null})
    }).addTo(parent);
}


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
// Rank labels: the top 5 at any zoom, the top 15 from zoom 10, every one from zoom 12, so
// labels of a crowded area do not pile up on each other.
var lb = data.labels, rankLabels = [];
for (var i = 0; i < lb.lat.length; i++) {
    rankLabels.push([lb.rank[i], L.marker([lb.lat[i], lb.lon[i]], {
        pane: 'hwHotspotLabels', interactive: false, keyboard: false,
        icon: L.divIcon({className: 'hw-rank', html: '<span>' + lb.text[i] + '</span>', iconSize: null})
    })]);
}
function showRankLabels() {
    var z = map.getZoom(), top = z >= 12 ? Infinity : (z >= 10 ? 15 : 5);
    for (var j = 0; j < rankLabels.length; j++) {
        var on = rankLabels[j][0] <= top, mk = rankLabels[j][1];
        if (on && !parent.hasLayer(mk)) { mk.addTo(parent); }
        if (!on && parent.hasLayer(mk)) { parent.removeLayer(mk); }
    }
}
map.on('zoomend', showRankLabels);
showRankLabels();


var markers = [];
for (var i = 0; i < data.lat.length; i++) {
    var s = data.size[i];
    markers.push(L.marker([data.lat[i], data.lon[i]], {
        icon: L.divIcon({className: 'hw-crossing', html: '<div></div>', iconSize: [s, s]}),
        riseOnHover: true, zIndexOffset: 500, hwWeight: data.count[i]
    }).bindTooltip(data.tip[i]));
}
if (data.cluster) {
    var group = L.markerClusterGroup({
        showCoverageOnHover: false, maxClusterRadius: 40, disableClusteringAtZoom: 11,
        iconCreateFunction: function (cluster) {
            var n = 0, ms = cluster.getAllChildMarkers();
            for (var j = 0; j < ms.length; j++) { n += ms[j].options.hwWeight || 1; }
            return L.divIcon({html: '<div></div><span>' + n + '</span>',
                              className: 'hw-crossing hw-crossing-cluster', iconSize: L.point(26, 26)});
        }
    });
    group.addLayers(markers);
    group.addTo(parent);
} else {
    for (var k = 0; k < markers.length; k++) { markers[k].addTo(parent); }
}


var seven = data.seven, nb = data.neighbour;
L.geoJSON(data.geojson, {
    style: function (f) { return f.properties.a ? seven : nb; },
    onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.t, {sticky: true});
    }
}).addTo(parent);
for (var i = 0; i < data.labels.length; i++) {
    var lb = data.labels[i];
    L.marker([lb[0], lb[1]], {
        interactive: false, keyboard: false,
        icon: L.divIcon({className: lb[3] ? 'hw-label' : 'hw-label hw-neighbour',
                         html: '<span>' + lb[2] + '</span>', iconSize: null})
    }).addTo(parent);
}


L.geoJSON(data.geojson, {
    style: function (f) {
        return {color: data.outline, weight: data.weight, fillColor: f.properties.c,
                fillOpacity: data.fillOpacity, opacity: 1};
    },
    onEachFeature: function (f, layer) {
        layer.bindPopup(f.properties.p, {maxWidth: 340});
        layer.bindTooltip(f.properties.t, {sticky: true});
    }
}).addTo(parent);

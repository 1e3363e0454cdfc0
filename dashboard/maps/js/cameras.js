
for (var i = 0; i < data.lat.length; i++) {
    L.circleMarker([data.lat[i], data.lon[i]], {radius: data.radius, color: data.color, weight: 1,
        fillColor: data.fill, fillOpacity: 1}).bindTooltip(data.tip[i]).addTo(parent);
}

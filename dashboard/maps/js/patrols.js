
for (var i = 0; i < data.lat.length; i++) {
    L.circle([data.lat[i], data.lon[i]], {radius: data.radius[i], color: data.color, weight: data.weight,
        dashArray: data.dash, fillColor: data.fill, fillOpacity: data.fillOpacity, className: 'hw-patrol'})
        .bindPopup(data.popup[i], {maxWidth: 360})
        .bindTooltip(data.label[i], {permanent: true, direction: 'center', className: 'hw-patrol-label'})
        .addTo(parent);
}
if (data.fit && data.lat.length) {
    var bounds = L.latLngBounds([]);
    for (var j = 0; j < data.lat.length; j++) {
        bounds.extend(L.latLng(data.lat[j], data.lon[j]).toBounds(2 * data.radius[j]));
    }
    map.fitBounds(bounds.pad(0.5), {maxZoom: 12});
}


var lat = data.lat, lon = data.lon, w = data.w, f = data.f, style = data.style;
function row(label, v) { return v ? '<br>' + label + ': ' + v : ''; }
function popup(i) {
    return '<div class="hw-popup"><b>Incident ' + f.id[i] + '</b><br>' + f.when[i] + ' \u00b7 ' +
        f.forces[f.force[i]] + (f.reported[i] ? ' (reported as ' + f.reported[i] + ')' : '') +
        row('Plates', f.plates[i]) + row('Nominals', f.noms[i]) + row('Dogs', f.dogs[i]) +
        row('Outcome', f.outcome[i]) + (f.notes[i] ? '<br><i>' + f.notes[i] + '</i>' : '') + '</div>';
}
function lazyPopup(i) { return function () { return popup(i); }; }
var group = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
    spiderfyOnMaxZoom: true, disableClusteringAtZoom: data.uncluster_zoom,
    iconCreateFunction: function (cluster) {
        var n = 0, ms = cluster.getAllChildMarkers();
        for (var j = 0; j < ms.length; j++) { n += ms[j].options.hwWeight || 1; }
        var size = n < 10 ? 28 : (n < 100 ? 34 : (n < 1000 ? 40 : 48));
        return L.divIcon({html: '<div>' + n + '</div>', className: 'hw-cluster',
                          iconSize: L.point(size, size)});
    }
});
var markers = new Array(lat.length);
for (var i = 0; i < lat.length; i++) {
    var wi = w ? w[i] : 1;
    var r = w ? Math.min(4 + 2 * Math.sqrt(wi), 16) : style.radius;
    var mk = L.circleMarker([lat[i], lon[i]], {
        radius: r, color: style.color, weight: style.weight, fillColor: style.fill,
        fillOpacity: style.fillOpacity, hwWeight: wi
    });
    if (f) {
        mk.bindPopup(lazyPopup(i), {maxWidth: 320});
        mk.bindTooltip('Incident ' + f.id[i]);
    } else if (w) { mk.bindTooltip(wi + (wi === 1 ? ' incident' : ' incidents') + data.cell_text); }
    markers[i] = mk;
}
group.addLayers(markers);
group.addTo(parent);


var lat = data.lat, lon = data.lon, at = data.at, ref = data.ref, kind = data.kind;
var force = data.forces, fi = data.force;
var starts = data.starts, labels = data.labels, colours = data.colours, ci = data.colour;
for (var g = 0; g < starts.length; g++) {
    var a = starts[g], b = (g + 1 < starts.length) ? starts[g + 1] : lat.length;
    var col = colours[ci[g]], pts = [];
    for (var i = a; i < b; i++) { pts.push([lat[i], lon[i]]); }
    var tipHead = labels[g];
    if (pts.length > 1) {
        var line = L.polyline(pts, {color: col, weight: data.weight, opacity: 0.9});
        line.bindTooltip(tipHead + ' ' + at[a] + ' \u2192 ' + at[b - 1], {sticky: true});
        line.addTo(parent);
        L.polylineDecorator(line, {patterns: [{offset: 12, repeat: 70, symbol:
            L.Symbol.arrowHead({pixelSize: data.arrow, polygon: true,
                pathOptions: {stroke: false, fill: true, fillColor: col, fillOpacity: 1}})}]}).addTo(parent);
    }
    for (var i = a; i < b; i++) {
        var inc = kind[i] === 1;
        L.circleMarker(pts[i - a], {radius: inc ? data.radius + 2 : data.radius, color: inc ? '#000' : col,
            weight: inc ? 2 : 1, fillColor: inc ? '#fff' : col, fillOpacity: 1})
         .bindTooltip(tipHead + '<br>' + at[i] + ' ' + (inc ? 'incident ' : 'ANPR read ') + ref[i] +
                      '<br>' + force[fi[i]])
         .addTo(parent);
    }
}


if (data.attribution && map.attributionControl) {
    map.attributionControl.addAttribution(data.attribution);
}
if (data.briefing) { map.getContainer().classList.add('hw-briefing'); }
var legend = L.control({position: 'bottomright'});
legend.onAdd = function () {
    var d = L.DomUtil.create('div', 'hw-legend');
    d.innerHTML = data.legend;
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return d;
};
legend.addTo(map);
// Layer switcher over the groups registered by each layer (not folium's
// LayerControl: it refers to layers by names that streamlit-folium renames
// when the same map object is rendered again, e.g. from st.cache_resource).
if (map._hwOverlays) {
    L.control.layers(null, map._hwOverlays, {collapsed: false, position: 'topright'}).addTo(map);
}
if (data.banner) {
    var banner = L.control({position: 'bottomleft'});
    banner.onAdd = function () {
        var d = L.DomUtil.create('div', 'hw-banner');
        d.innerHTML = data.banner;
        return d;
    };
    banner.addTo(map);
}

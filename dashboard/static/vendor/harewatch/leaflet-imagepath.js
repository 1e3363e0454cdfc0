/* Harewatch: loaded right after leaflet.js. Leaflet guesses the folder of its
 * default marker images from leaflet.css before that CSS is applied, and the
 * guess 404s; point it at the vendored images next to this file instead. */
(function () {
  var s = document.currentScript && document.currentScript.src;
  if (window.L && L.Icon && L.Icon.Default) {
    L.Icon.Default.imagePath = s ? s.replace(/harewatch\/[^\/]*$/, "leaflet/images/") : "";
  }
})();

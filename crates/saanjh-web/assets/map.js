// Progressive enhancement for /map: when a tile server is configured, draw
// the schemes' pins over map tiles. Without JavaScript, or when tiles do not
// load, the page's list and SVG sketch remain and say everything.
(function () {
  var box = document.getElementById('tiles');
  if (!box || !box.dataset.tiles) return;
  fetch(box.dataset.geojson).then(function (r) { return r.json(); }).then(function (g) {
    var f = g.features || [];
    if (!f.length) return;
    var lat = 0, lon = 0;
    f.forEach(function (x) { lon += x.geometry.coordinates[0]; lat += x.geometry.coordinates[1]; });
    lat /= f.length; lon /= f.length;
    var z = 15, n = Math.pow(2, z), W = box.clientWidth || 320, H = 320;
    function px(la, lo) {
      var r = la * Math.PI / 180;
      return [(lo + 180) / 360 * n * 256, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n * 256];
    }
    var c = px(lat, lon), ox = c[0] - W / 2, oy = c[1] - H / 2;
    box.style.height = H + 'px';
    var failed = 0;
    for (var tx = Math.floor(ox / 256); tx <= Math.floor((ox + W) / 256); tx++) {
      for (var ty = Math.floor(oy / 256); ty <= Math.floor((oy + H) / 256); ty++) {
        var img = new Image();
        img.alt = '';
        img.onerror = function () { if (++failed > 2) box.hidden = true; };
        img.src = box.dataset.tiles.replace('{z}', z).replace('{x}', tx).replace('{y}', ty);
        img.style.left = (tx * 256 - ox) + 'px'; img.style.top = (ty * 256 - oy) + 'px';
        box.appendChild(img);
      }
    }
    f.forEach(function (x) {
      var p = px(x.geometry.coordinates[1], x.geometry.coordinates[0]);
      var a = document.createElement('a');
      a.className = 'pin'; a.href = x.properties.url; a.title = x.properties.name;
      a.setAttribute('aria-label', x.properties.name);
      a.style.left = (p[0] - ox) + 'px'; a.style.top = (p[1] - oy) + 'px';
      box.appendChild(a);
    });
    box.hidden = false;
  }).catch(function () { box.hidden = true; });
})();

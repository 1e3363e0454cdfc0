
(map._hwOverlays = map._hwOverlays || {})[data.name] = parent;

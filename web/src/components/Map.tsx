import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef, useState } from 'react';
import type { LatLng } from '../lib/geo.ts';

export type MarkerKind = 'merchant' | 'merchant-closed' | 'destination' | 'driver' | 'pin' | 'me';

export interface MapMarker {
  id: string;
  lat: number;
  lng: number;
  kind: MarkerKind;
  /** Tooltip and accessible name. */
  title: string;
  /** One or two characters drawn inside the marker instead of its kind's symbol. */
  glyph?: string;
  active?: boolean;
  draggable?: boolean;
  onDragEnd?: (position: LatLng) => void;
  onClick?: () => void;
}

export interface MapLine {
  id: string;
  points: LatLng[];
  color?: string;
  dashed?: boolean;
}

export interface MapProps {
  /** Accessible name of the map region. */
  label: string;
  center: LatLng;
  zoom?: number;
  markers?: MapMarker[];
  lines?: MapLine[];
  /** Each new value fits the view to every marker and line once. */
  fitKey?: string;
  onMapClick?: (position: LatLng) => void;
  className?: string;
}

const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const DEFAULT_ATTRIBUTION =
  '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
const tileUrl = import.meta.env.VITE_TILE_URL || DEFAULT_TILES;
const attribution = import.meta.env.VITE_TILE_ATTRIBUTION || DEFAULT_ATTRIBUTION;

const svg = (path: string) =>
  `<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${path}</svg>`;
/** Drawn inline (no icon font, no emoji, no image file): they render offline and everywhere. */
const STORE = svg('<path d="M4 10v10h16V10M3 10l2-6h14l2 6M3 10h18M9 20v-6h6v6"/>');
const GLYPH: Record<MarkerKind, string> = {
  merchant: STORE,
  'merchant-closed': STORE,
  destination: svg('<path d="M4 11l8-7 8 7M6 10v10h12V10"/>'),
  driver: svg('<path d="M5 19l7-15 7 15-7-4z" fill="currentColor"/>'),
  pin: svg('<circle cx="12" cy="12" r="3" fill="currentColor"/>'),
  me: '',
};

/**
 * Tiles can also be turned off in one browser, without a rebuild: `localStorage` key
 * `delivery.mapTiles` set to `none` (a metered connection; the end-to-end tests, which must not
 * reach the internet). Markers and lines are drawn as usual.
 */
function tilesOffInThisBrowser(): boolean {
  try {
    return localStorage.getItem('delivery.mapTiles') === 'none';
  } catch {
    return false;
  }
}
const tilesOff = tileUrl === 'none' || tilesOffInThisBrowser();

/** Once tiles failed to load, later maps of this page load skip them (and their errors). */
let tilesUnavailable = tilesOff;

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** Markers are drawn with HTML and CSS (no image files), so they show without any download. */
function iconOf(m: MapMarker): L.DivIcon {
  const pin = m.kind === 'pin' || m.kind === 'destination';
  return L.divIcon({
    className: '',
    html: `<span class="map-marker map-marker--${m.kind}${m.active ? ' map-marker--active' : ''}"><span class="map-marker__glyph">${m.glyph ? escapeHtml(m.glyph) : GLYPH[m.kind]}</span></span>`,
    iconSize: [32, 32],
    iconAnchor: pin ? [16, 32] : [16, 16],
  });
}

const iconKey = (m: MapMarker) => `${m.kind}|${m.glyph ?? ''}|${m.active ? 1 : 0}`;

interface Live {
  marker: L.Marker;
  key: string;
}

/**
 * A Leaflet map with vector markers and lines. Tiles come from `VITE_TILE_URL` (OpenStreetMap's
 * by default); when they cannot load (offline) the tile layer is dropped and the markers and
 * lines stay on a plain background, with a note saying so.
 */
export function MapView({
  label,
  center,
  zoom = 14,
  markers = [],
  lines = [],
  fitKey,
  onMapClick,
  className = 'h-80',
}: MapProps) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | null>(null);
  const tilesRef = useRef<L.TileLayer | null>(null);
  const markerLayer = useRef<L.LayerGroup | null>(null);
  const lineLayer = useRef<L.LayerGroup | null>(null);
  const live = useRef(new Map<string, Live>());
  const handlers = useRef(new Map<string, MapMarker>());
  const clickRef = useRef(onMapClick);
  const [tilesFailed, setTilesFailed] = useState(tilesUnavailable);

  useEffect(() => {
    clickRef.current = onMapClick;
    handlers.current = new Map(markers.map((m) => [m.id, m]));
  });

  // The map itself, once per mount.
  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const map = L.map(el, { zoomControl: true, attributionControl: true });
    map.attributionControl.setPrefix(false);
    map.setView([center.lat, center.lng], zoom);
    markerLayer.current = L.layerGroup().addTo(map);
    lineLayer.current = L.layerGroup().addTo(map);
    map.on('click', (e: L.LeafletMouseEvent) =>
      clickRef.current?.({ lat: e.latlng.lat, lng: e.latlng.lng }),
    );
    if (!tilesUnavailable) {
      // Credited on the control itself, so the credit stays if the layer is dropped.
      map.attributionControl.addAttribution(attribution);
      const tiles = L.tileLayer(tileUrl, { maxZoom: 19 });
      // A failure before any tile loaded means the source is unreachable (offline): stop
      // asking for hundreds more. Later failures are single tiles and change nothing.
      let loaded = false;
      tiles.on('tileload', () => (loaded = true));
      tiles.on('tileerror', () => {
        if (loaded || tilesUnavailable) return;
        tilesUnavailable = true;
        tiles.remove();
        setTilesFailed(true);
      });
      tiles.addTo(map);
      tilesRef.current = tiles;
    } else if (!tilesOff) {
      map.attributionControl.addAttribution(attribution);
    }
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(el);
    mapRef.current = map;
    const markersNow = live.current;
    return () => {
      resize.disconnect();
      map.remove();
      mapRef.current = null;
      tilesRef.current = null;
      markersNow.clear();
    };
    // The initial view only: later centre changes are handled below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    mapRef.current?.panTo([center.lat, center.lng]);
  }, [center.lat, center.lng]);

  // Markers: moved in place (the driver glides instead of blinking), added, removed.
  useEffect(() => {
    const layer = markerLayer.current;
    if (!layer) return;
    const wanted = new Set(markers.map((m) => m.id));
    for (const [id, { marker }] of live.current) {
      if (!wanted.has(id)) {
        layer.removeLayer(marker);
        live.current.delete(id);
      }
    }
    for (const m of markers) {
      const existing = live.current.get(m.id);
      if (existing) {
        const at = existing.marker.getLatLng();
        if (at.lat !== m.lat || at.lng !== m.lng) existing.marker.setLatLng([m.lat, m.lng]);
        if (existing.key !== iconKey(m)) {
          existing.marker.setIcon(iconOf(m));
          existing.key = iconKey(m);
        }
        existing.marker.options.title = m.title;
        continue;
      }
      const marker = L.marker([m.lat, m.lng], {
        icon: iconOf(m),
        title: m.title,
        alt: m.title,
        keyboard: true,
        draggable: Boolean(m.draggable),
        autoPan: Boolean(m.draggable),
        zIndexOffset: m.kind === 'driver' ? 1000 : m.kind === 'pin' ? 500 : 0,
      });
      marker.on('click', () => handlers.current.get(m.id)?.onClick?.());
      marker.on('dragend', () => {
        const p = marker.getLatLng();
        handlers.current.get(m.id)?.onDragEnd?.({ lat: p.lat, lng: p.lng });
      });
      marker.bindTooltip(escapeHtml(m.title), { direction: 'top', offset: [0, -14] });
      marker.addTo(layer);
      live.current.set(m.id, { marker, key: iconKey(m) });
    }
  }, [markers]);

  useEffect(() => {
    const layer = lineLayer.current;
    if (!layer) return;
    layer.clearLayers();
    for (const line of lines) {
      if (line.points.length < 2) continue;
      L.polyline(
        line.points.map((p) => [p.lat, p.lng]),
        {
          color: line.color ?? '#047857',
          weight: 4,
          opacity: 0.85,
          ...(line.dashed ? { dashArray: '8 8' } : {}),
        },
      ).addTo(layer);
    }
  }, [lines]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map || fitKey === undefined) return;
    const points: L.LatLngTuple[] = [
      ...[...live.current.values()].map(({ marker }): L.LatLngTuple => {
        const p = marker.getLatLng();
        return [p.lat, p.lng];
      }),
    ];
    if (points.length === 0) return;
    // Not animated: an animation still running when the container is measured (ResizeObserver)
    // or the centre moves is cut short and leaves the view where it was.
    if (points.length === 1) {
      map.setView(points[0]!, Math.max(map.getZoom(), 15), { animate: false });
    } else {
      map.fitBounds(L.latLngBounds(points), { padding: [40, 40], maxZoom: 16, animate: false });
    }
  }, [fitKey]);

  return (
    <div className={`relative overflow-hidden rounded-lg border border-slate-200 ${className}`}>
      <div ref={container} role="region" aria-label={label} className="map-surface h-full w-full" />
      {tilesFailed && !tilesOff && (
        <p className="pointer-events-none absolute top-2 left-12 z-[500] rounded bg-white/90 px-2 py-1 text-xs text-slate-600 shadow">
          Map tiles could not load; markers and routes are still shown.
        </p>
      )}
    </div>
  );
}

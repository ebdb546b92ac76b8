/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Tile URL template for the maps; `none` shows markers and lines on a plain background. */
  readonly VITE_TILE_URL?: string;
  /** Attribution (HTML) for VITE_TILE_URL's tiles. */
  readonly VITE_TILE_ATTRIBUTION?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}

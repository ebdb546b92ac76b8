import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '');
  /** Where `npm run dev:web` sends API, WebSocket and docs requests: the `npm run dev` server. */
  const target = env.API_PROXY_TARGET || 'http://localhost:3000';
  /**
   * The maps' tile source, fixed at build time: VITE_TILE_URL, else the server's MAP_TILE_URL
   * (whose host the server's Content-Security-Policy allows images from), else OpenStreetMap.
   */
  const tileUrl = env.VITE_TILE_URL || env.MAP_TILE_URL || '';

  return {
    plugins: [react(), tailwindcss()],
    define: { 'import.meta.env.VITE_TILE_URL': JSON.stringify(tileUrl) },
    server: {
      port: 5173,
      proxy: {
        '/api': { target, changeOrigin: true },
        '/ws': { target, ws: true, changeOrigin: true },
        '/docs': { target, changeOrigin: true },
        '/health': { target, changeOrigin: true },
      },
    },
    build: {
      outDir: 'dist',
      sourcemap: true,
      chunkSizeWarningLimit: 1024,
    },
  };
});

// The page's entry point (bundled to app.js by scripts/bundle.mjs).
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root !== null) render(<App />, root);

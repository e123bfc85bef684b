// One place that binds htm to Preact, so pages import `html` and hooks from here and never
// from the vendored files directly (a version bump touches scripts/vendor-web.sh only).
import { h, render, createContext, Fragment } from '../vendor/preact.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
export { h, render, createContext, Fragment };
export {
  useState, useEffect, useRef, useMemo, useCallback, useContext, useReducer, useLayoutEffect,
} from '../vendor/preact-hooks.js';

// A client-only single-page app: the Worker serves index.html for every app path.
export const ssr = false;
export const prerender = false;

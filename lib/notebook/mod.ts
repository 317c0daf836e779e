// Notebook display: plotly figures with a static PNG (rendered in headless Chromium) for GitHub,
// text and source displays that Deno's Jupyter kernel sends before a cell ends. Outside Jupyter
// they print text.

export * from "./figures.ts";
export * from "./png.ts";
export * from "./plot.ts";
export * from "./source.ts";

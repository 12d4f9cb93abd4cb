// SVG files are bundled as their source text, which LabIcon expects.
declare module '*.svg' {
  const svgstr: string;
  export default svgstr;
}

const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

// Packages published as ES modules that jest must transpile.
const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@microsoft',
  'exenv-es6',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  // No junit/GitHub reporters: the console summary is what CI reads.
  reporters: ['default'],
  // Only the sources: the venv and the built extension hold package.json
  // files whose names collide in jest's module map.
  roots: ['<rootDir>/src'],
  testRegex: 'src/.*/.*\\.spec\\.tsx?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};

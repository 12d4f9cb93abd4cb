import { announcementsPlugin } from './announcements/plugin';
import { remoteKernelPlugin } from './remotekernels/plugin';
import { sidebarPlugin } from './sidebar/plugin';
import { submitPlugin } from './submit/plugin';

export default [
  sidebarPlugin,
  announcementsPlugin,
  submitPlugin,
  remoteKernelPlugin
];

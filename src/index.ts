import { announcementsPlugin } from './plugins/announcements';
import { remoteKernelPlugin } from './plugins/remotekernel';
import { sidebarPlugin } from './plugins/sidebar';
import { submitPlugin } from './plugins/submit';

export default [
  sidebarPlugin,
  announcementsPlugin,
  submitPlugin,
  remoteKernelPlugin
];

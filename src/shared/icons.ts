import { LabIcon } from '@jupyterlab/ui-components';

import hpcSvgstr from '../../style/icons/hpc.svg';

/**
 * The icon of the HPC sidebar: a stack of servers.
 */
export const hpcIcon = new LabIcon({
  name: 'jupyterlab-hpc:hpc',
  svgstr: hpcSvgstr
});

export { DevtoolsPanel, type DevtoolsPanelProps, type PanelTheme } from './DevtoolsPanel.js';
export { mountDevtoolsPanel, type MountDevtoolsPanelOptions, type MountedDevtoolsPanel } from './mount.js';
export { PANEL_CSS } from './styles.js';

// The devtools page: adds the "Checkpoints" panel for the inspected tab.
chrome.devtools.panels.create('Checkpoints', '', 'panel/panel.html');

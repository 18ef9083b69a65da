// The admin's progressive JavaScript: each feature module wires itself to the elements it finds
// (by data attribute) and does nothing on pages without them.
import './conversation.js';
import './copy.js';
import './editor.js';
import './dashboard.js';

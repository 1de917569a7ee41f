// List pages: keeps the table fresh; filter changes are swapped in by htmx and pushed to the URL.
import { pollWhileVisible, refreshFragment } from "./poll.js";

const table = document.getElementById("list-table");
if (table) pollWhileVisible(() => refreshFragment(table));

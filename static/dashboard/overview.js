// Overview page: keeps the namespace cards fresh (filters live in the URL, applied by htmx).
import { pollWhileVisible, refreshFragment } from "./poll.js";

const cards = document.getElementById("cards");
if (cards) pollWhileVisible(() => refreshFragment(cards));

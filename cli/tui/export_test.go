package tui

// Underlined is underlined for the end-to-end tests (package tui_test).
var Underlined = underlined

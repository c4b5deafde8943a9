<?php
// Greets a visitor of the Quire documentation site.
function greeting(string $name): string {
    return "Welcome to Quire, " . htmlspecialchars($name) . "!";
}
echo greeting($_GET['name'] ?? 'reader');

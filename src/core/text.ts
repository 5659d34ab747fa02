/** "1 cell", "3 cells": a count and its noun, plural (with an s) unless the count is 1. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

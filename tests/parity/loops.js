let sum = 0;
for (let i = 1; i <= 10; i++) sum += i;
console.log("sum 1..10 = " + sum);
const evens = [];
for (let i = 10; i >= 1; i--) if (i % 2 === 0) evens.push(i);
console.log("evens down " + evens.join(" "));
let n = 27, steps = 0;
while (n !== 1) {
  n = n % 2 === 0 ? Math.floor(n / 2) : 3 * n + 1;
  steps++;
}
console.log("collatz(27) steps " + steps);
let found;
for (const [i, v] of [5, 8, 13, 21].entries()) {
  if (v > 10) { found = i + 1; break; }
}
console.log("first > 10 at " + found);
let k = 0;
do { k += 3; } while (!(k > 10));
console.log("repeat until " + k);
const keys = Object.keys({banana: 1, apple: 2, cherry: 3}).sort();
console.log("sorted keys " + keys.join(","));
const grid = [];
for (let r = 1; r <= 3; r++) {
  const row = [];
  for (let c = 1; c <= 3; c++) row.push(r * c);
  grid.push(row);
}
console.log("grid[3][2] = " + grid[2][1]);
const answers = [];
for (let i = 1; i <= 3; i++) answers.push((await llm.complete({prompt: "q" + i})).model);
console.log("calls in a loop: " + answers.join(","));
return {sum, steps, grid};

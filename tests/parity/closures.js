function counter(start) {
  let n = start;
  return (step) => {
    n = n + (step ?? 1);
    return n;
  };
}
const c1 = counter(0), c2 = counter(100);
c1(); c1(); c2(5);
console.log("c1 = " + c1() + ", c2 = " + c2());
const map = (list, f) => list.map((v, i) => f(v, i + 1));
const squares = map([1, 2, 3, 4], (v) => v * v);
console.log("squares " + squares.join(","));
const compose = (f, g) => (x) => f(g(x));
const incThenDouble = compose((x) => x * 2, (x) => x + 1);
console.log("compose " + incThenDouble(5));
const handlers = {};
const on = (name, fn) => { handlers[name] = fn; };
on("greet", (who) => "hi " + who);
console.log(handlers.greet("there"));
const fns = [];
for (let i = 1; i <= 3; i++) fns.push(() => i * 10);
console.log("captured " + fns[0]() + " " + fns[1]() + " " + fns[2]());
const pieces = [];
await llm.stream({prompt: "x"}, (p) => { pieces.push(p.toUpperCase()); });
console.log("callback saw " + String(pieces.length > 0));
return squares;

// A tool of the spell's own next to a built-in one, called directly and by name.
//   llmspell run examples/js/tools.js --param word=spell
const word = params.word ?? "spell";
tools.register({
  name: "reverse",
  description: "Reverse a word",
  parameters: {text: {type: "string", required: true, description: "the word"}},
  handler: (args) => [...args.text].reverse().join(""),
});
const reversed = await tools.reverse(word);
const sum = await tools.calculator("6 * 7");
const again = await tools.call("reverse", {text: reversed});
console.log(word + " reversed is " + reversed + ", and back: " + again);
console.log("6 * 7 = " + sum);
console.log("tools: " + (await tools.list()).map((t) => t.name).join(", "));
return {reversed, sum};
